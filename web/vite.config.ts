import { defineConfig, loadEnv } from 'vite';

// The console is served by the HAIP server from web/dist (same origin as the
// REST API). In development, `npm run dev` proxies API calls to a running
// server given by HAIP_DEV_API (default http://127.0.0.1:8080).
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', 'HAIP_');
  const apiTarget = env.HAIP_DEV_API || 'http://127.0.0.1:8080';
  return {
    base: '/',
    esbuild: {
      jsx: 'automatic',
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: false,
      target: 'es2022',
    },
    server: {
      proxy: {
        '/api': { target: apiTarget },
        '/healthz': { target: apiTarget },
        '/fhir': { target: apiTarget },
      },
    },
  };
});
