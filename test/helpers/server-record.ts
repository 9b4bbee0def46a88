/** What the hub's state holds for a server that a test started through a spawner directly. */
import type { ServerRecord } from '../../hub/store/state.js';

export function runningRecord(user: string, spawner: string, started: { state: Record<string, unknown>; target: string }): ServerRecord {
  return {
    user, name: '', status: 'running', spawner, state: started.state, target: started.target,
    started: new Date().toISOString(), lastActivity: null, stoppedAt: null, stopReason: null, tokenId: null,
  };
}
