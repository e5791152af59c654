// `import { createRoot } from 'react-dom/client'` for a page without a bundler: window.ReactDOM.
export const { createRoot } = window.ReactDOM;
