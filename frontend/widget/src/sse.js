// Server-sent events, parsed from the text of a fetch() stream (so the token can travel in
// the Authorization header, which EventSource cannot send).

/** Parse one event block ("event: x\nid: 3\ndata: {...}") into {event, id, data} or null. */
export function parseEvent(block) {
  const fields = { event: "message", id: null, data: [] };
  for (const line of block.split("\n")) {
    if (!line || line.charAt(0) === ":") {
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon >= 0 ? line.slice(0, colon) : line;
    const value = colon >= 0 ? line.slice(colon + 1).replace(/^ /, "") : "";
    if (name === "data") {
      fields.data.push(value);
    } else if (name === "event") {
      fields.event = value;
    } else if (name === "id") {
      fields.id = value;
    }
  }
  if (!fields.data.length) {
    return null;
  }
  try {
    return { event: fields.event, id: fields.id, data: JSON.parse(fields.data.join("\n")) };
  } catch {
    return null;
  }
}

/** Return a feeder: feed(text) calls onEvent for each complete event in the text so far. */
export function eventSplitter(onEvent) {
  let buffer = "";
  return function feed(text) {
    buffer += text.replace(/\r\n?/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const parsed = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (parsed) {
        onEvent(parsed);
      }
      end = buffer.indexOf("\n\n");
    }
  };
}
