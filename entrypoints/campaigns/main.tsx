import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { CampaignsPage } from '@/components/CampaignsPage';
import '@/components/ui.css';

// The scrub runs in a module worker (Vite bundles it from this URL form).
const makeWorker = () => new Worker(new URL('./scrub-worker.ts', import.meta.url), { type: 'module' });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <CampaignsPage makeWorker={makeWorker} />
  </StrictMode>,
);
