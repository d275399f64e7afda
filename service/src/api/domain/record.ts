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

export const TITLE_MAX_LENGTH = 255;
export const URI_MAX_LENGTH = 2048;
