/** widget.css, imported as text for the shadow root (esbuild's text loader, scripts/build-web.mjs). */
declare module '*.css' {
  const text: string;
  export default text;
}
