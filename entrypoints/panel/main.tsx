import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { StatusPanel } from '@/components/StatusPanel';
import '@/components/ui.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StatusPanel />
  </StrictMode>,
);
