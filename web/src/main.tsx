import { render } from 'preact';
import { App } from './app';
import { SessionProvider } from './auth/session';
import './styles.css';

render(
  <SessionProvider>
    <App />
  </SessionProvider>,
  document.getElementById('app')!,
);
