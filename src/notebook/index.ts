export { escapeHtml, htmlTable, metricRows, plotlyDiv, plotlyScriptTag, tableValue } from './html.js';
export { candlesWithFillsFigure, candlesWithVolume, equityAndDrawdownFigure } from './figures.js';
