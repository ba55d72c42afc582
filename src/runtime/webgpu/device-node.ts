// Node-only device acquisition through Dawn (npm `webgpu`). Kept apart from device.ts so browser bundles never
// pull in the native module.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'webgpu';
import { type AcquiredDevice, type AcquireOptions, acquireDevice, type GpuSource } from './device.ts';

export const MESA_PACKAGES_HINT =
  'On Debian/Ubuntu without a GPU, install Mesa llvmpipe behind EGL: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri';

/** Mesa's EGL must start surfaceless (no display) and wants a private runtime dir; set both before `create()`. */
export function prepareMesaEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.EGL_PLATFORM ??= 'surfaceless';
  env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'adaptc-xdg-'));
}

/**
 * A real GPU through Dawn's default backend (Vulkan/Metal/D3D12) first, then Mesa llvmpipe through Dawn's
 * OpenGL backend, which only offers the compatibility feature level.
 */
export function nodeGpuSources(): GpuSource[] {
  return [
    { backend: 'default', open: () => create([]) },
    {
      backend: 'opengl-compat',
      open: () => create(['backend=opengl']),
      adapterOptions: { featureLevel: 'compatibility' },
    },
  ];
}

export function acquireNodeDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  prepareMesaEnvironment();
  return acquireDevice({ sources: nodeGpuSources(), missingAdapterHint: MESA_PACKAGES_HINT, ...options });
}
