"""Sends HL7 v2 messages to medtwin over MLLP with Debian's python3-hl7 (its MLLPClient) and
prints each acknowledgement as one JSON line read with that library's parser:
{"msa1", "msa2", "msa3", "err": [[ERR-2, ERR-3, ERR-4, ERR-8], ...]}.
Usage: /usr/bin/python3 hl7_send.py PORT FILE  (messages separated by a blank line)."""
import json
import sys

import hl7
import hl7.client

port, path = int(sys.argv[1]), sys.argv[2]
with open(path, encoding="utf-8") as f:
    blocks = [b.strip() for b in f.read().split("\n\n") if b.strip()]
with hl7.client.MLLPClient("127.0.0.1", port) as client:
    for block in blocks:
        reply = client.send_message("\r".join(block.split("\n")))
        text = reply.decode("utf-8") if isinstance(reply, bytes) else reply
        text = text.strip("\x0b\x1c\r\n")
        ack = hl7.parse(text)
        msa = ack.segment("MSA")
        errs = []
        for seg in ack:
            if str(seg[0]) == "ERR":
                errs.append([str(seg(i)) if len(seg) > i else "" for i in (2, 3, 4, 8)])
        print(json.dumps({
            "msa1": str(msa(1)),
            "msa2": str(msa(2)),
            "msa3": str(msa(3)) if len(msa) > 3 else "",
            "err": errs,
        }))
