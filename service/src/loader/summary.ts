/** What a load did so far: records read, stored, rejected; chunks sent, and of those, replayed. */
export type LoadSummary = { records: number; stored: number; rejected: number; chunks: number; replayed: number };
