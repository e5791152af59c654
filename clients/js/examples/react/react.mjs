// `import ... from 'react'` for a page without a bundler: the UMD build's window.React.
const React = window.React;
export default React;
export const { createElement, useEffect, useRef, useState } = React;
