/** The options of `tm data fetch` as commander parses them (shared by the command and its lazily loaded action). */
export interface FetchFlags {
  exchange: string;
  symbols?: string;
  timeframe?: string;
  since: string;
  until?: string;
  funding: boolean;
  dvol?: string;
  venue?: string;
  db?: string;
  apiUrl?: string;
  pageLimit?: string;
  json?: boolean;
}
