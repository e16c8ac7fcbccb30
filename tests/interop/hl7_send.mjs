// Sends HL7 v2 messages to medtwin over MLLP with an outside client (node-hl7-client) and
// prints each acknowledgement as one JSON line: {"msa1", "msa2", "msa3", "err": [[ERR-2, ERR-3,
// ERR-4, ERR-8], …]}, read with that client's own parser.
// Usage: node hl7_send.mjs PORT FILE   (FILE: messages separated by a blank line; segments by
// newlines, sent as carriage returns)
import { readFileSync } from "node:fs";
import { Client, Message } from "node-hl7-client";

const [port, file] = process.argv.slice(2);
const messages = readFileSync(file, "utf8")
  .split(/\n\s*\n/)
  .map((m) => m.trim())
  .filter((m) => m.length > 0)
  .map((m) => m.split("\n").join("\r"));

const client = new Client({ host: "127.0.0.1" });
const acks = [];
// Original-mode MLLP: one message, then its ACK, then the next (this client sends a message
// given while an ACK is awaited on a new connection, so the script waits for each ACK itself).
let acknowledged = () => {};
const connection = client.createConnection({ port: Number(port), waitAck: true }, async (res) => {
  const ack = res.getMessage();
  const err = [];
  for (const line of ack.toString().split("\r")) {
    if (!line.startsWith("ERR|")) continue;
    const f = line.split("|");
    err.push([f[2] ?? "", f[3] ?? "", f[4] ?? "", f[8] ?? ""]);
  }
  acks.push({
    msa1: ack.get("MSA.1").toString(),
    msa2: ack.get("MSA.2").toString(),
    msa3: ack.get("MSA.3").toString(),
    err,
  });
  acknowledged();
});
for (const text of messages) {
  const got = new Promise((resolve) => (acknowledged = resolve));
  const timer = setTimeout(() => acknowledged(), 20000);
  await connection.sendMessage(new Message({ text }));
  await got;
  clearTimeout(timer);
}
for (const a of acks) console.log(JSON.stringify(a));
await connection.close();
client.closeAll();
process.exit(acks.length === messages.length ? 0 : 1);
