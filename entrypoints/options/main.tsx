import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { OptionsPage } from '@/components/OptionsPage';
import '@/components/ui.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <OptionsPage />
  </StrictMode>,
);
