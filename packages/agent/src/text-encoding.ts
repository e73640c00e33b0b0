import { configureTextEncoding } from '@bufbuild/protobuf/wire';

/**
 * protobuf-es decodes every string field with a default WHATWG `TextDecoder`, which drops a
 * leading U+FEFF (byte-order mark) from each string it decodes. On this wire a string is data
 * (a metadata key, a name, console output), so a leading U+FEFF must arrive as it was sent.
 * protobuf-es exposes its text codec only as a process-wide setting, so this module sets it
 * once, to decoders that keep the mark; the encoder and the UTF-8 check are protobuf-es's own.
 * Every module that reads the wire imports `./wire.js`, which imports this first.
 */
const encoder = new TextEncoder();
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });
const strict = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

configureTextEncoding({
  encodeUtf8: (text) => encoder.encode(text),
  decodeUtf8: (bytes, strictUtf8) => (strictUtf8 === true ? strict : lenient).decode(bytes),
  checkUtf8: (text) => {
    try {
      encodeURIComponent(text);
      return true;
    } catch {
      return false;
    }
  },
});
