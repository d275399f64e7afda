/** A record as stored: the parsed instant next to the original date text. */
export type StoredRecord = {
  id: number;
  title: string | null;
  uri: string | null;
  dateMs: number;
  dateRaw: string;
};

/** A validated record ready to insert; folded columns are derived by the repository. */
export type NewRecord = Omit<StoredRecord, 'id'>;

/** The JSON shape served by the API. */
export type RecordView = {
  id: number;
  title: string | null;
  uri: string | null;
  date: string;
  rawDate: string;
};

export const TITLE_MAX_LENGTH = 255;
export const URI_MAX_LENGTH = 2048;

export function toView(record: StoredRecord): RecordView {
  return {
    id: record.id,
    title: record.title,
    uri: record.uri,
    date: new Date(record.dateMs).toISOString(),
    rawDate: record.dateRaw,
  };
}
