export { escapeHtml, htmlTable, plotlyDiv, plotlyScriptTag } from './html.js';
export { candlesWithVolume } from './figures.js';
