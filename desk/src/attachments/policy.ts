/** What a welcome says of attachments (`attachments`; kinds.ts makes it): null when the node takes none. */
export interface AttachmentPolicy {
  maxBytes: number;
  /** The types accepted (a file input's `accept`). */
  types: string[];
}
