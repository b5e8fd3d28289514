export { escapeHtml, htmlTable, plotlyDiv, plotlyScriptTag } from './html.js';
export { candlesWithFillsFigure, candlesWithVolume, equityAndDrawdownFigure } from './figures.js';
