"""A real OpenAI-compatible HTTP server on loopback with a scripted (fake) model.

`python tests/openai_server.py PORT` serves POST /v1/chat/completions. The
model name in the request picks the behaviour:
- "grounded": answers with the first sentence of passages [1] and [2], cited.
- "fabricates": one cited sentence, one citing a passage that does not exist, one without a source.
- "broken": HTTP 500.
Every request body is appended to the file named by the second argument, if given.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PASSAGE_RE = re.compile(r"^\[(\d+)\] [^\n]*:\n(.+?)(?=\n\n\[\d+\] |\n\nFrågor som)", re.MULTILINE | re.DOTALL)


def first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip())[0]
    return sentence.rstrip(".!?")


def reply_for(model: str, prompt: str) -> str:
    passages = PASSAGE_RE.findall(prompt)
    if model == "fabricates":
        n, quote = passages[0]
        return (f"{first_sentence(quote)} [{n}]. Alla kommuner måste använda molntjänster [99]. "
                "Detta påstående saknar källa.")
    return " ".join(f"{first_sentence(quote)} [{n}]." for n, quote in passages[:2])


class Handler(BaseHTTPRequestHandler):
    log_file: str | None = None

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if self.log_file:
            with open(self.log_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(body, ensure_ascii=False) + "\n")
        model = body.get("model", "")
        if not self.path.endswith("/chat/completions") or model == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "scripted failure"}}')
            return
        prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
        payload = {
            "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply_for(model, prompt)}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - readiness probe
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")


if __name__ == "__main__":
    Handler.log_file = sys.argv[2] if len(sys.argv) > 2 else None
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
