/**
 * Preload of every LabHub window (bundled to dist/main/preload.cjs by scripts/postbuild.mjs: a
 * sandboxed preload cannot load local modules). Exposes exactly one object, `window.labhub`,
 * limited to the IPC contract; `ipcRenderer` itself never reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './ipc/bridge.js';

contextBridge.exposeInMainWorld('labhub', createBridge(ipcRenderer));
