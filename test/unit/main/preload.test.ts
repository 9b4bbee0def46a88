/**
 * The preload as it ships: bundled by esbuild as scripts/postbuild.mjs does, then run with a FAKE
 * `electron` module (no Electron binary here) to see what it exposes to the page.
 */
import { build } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('preload bundle', () => {
  it("requires only electron and exposes exactly one object, window.labhub, that is not ipcRenderer", async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('../../../main/preload.ts', import.meta.url))],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['electron'],
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    const required: string[] = [];
    const exposed: Array<[string, unknown]> = [];
    const ipcRenderer = { invoke: async () => ({ ok: true, value: 1 }), on: () => undefined, removeListener: () => undefined, send: () => undefined };
    const fakeElectron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) }, ipcRenderer };
    const module = { exports: {} };
    runInNewContext(code, {
      module,
      exports: module.exports,
      require: (id: string) => {
        required.push(id);
        if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
        return fakeElectron;
      },
    });
    expect(required).toEqual(['electron']);
    expect(exposed.map(([k]) => k)).toEqual(['labhub']);
    const api = exposed[0]![1] as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on']);
    expect(api).not.toBe(ipcRenderer);
    await expect((api.invoke as (c: string) => Promise<unknown>)('hub:status')).resolves.toEqual({ ok: true, value: 1 });
    await expect((api.invoke as (c: string) => Promise<unknown>)('evil:channel')).rejects.toThrow(/unknown channel/);
  });
});
