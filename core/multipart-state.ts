// A multipart write's resumable state: written by the image-store drivers, kept on the copy rows of the database.

/** A multipart write in progress: plain JSON, persisted by the caller (a heartbeat) and resumed from. */
export interface MultipartState {
  key: string;
  uploadId: string;
  parts: { partNumber: number; size: number; etag: string }[];
}
