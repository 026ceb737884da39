"""Build real git repositories in temporary directories (shared by tests/repos and tests/localize)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
       "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True,
                          text=True).stdout.strip()


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_repo(root: Path, files: dict[str, str | bytes]) -> str:
    """`git init` + one commit of `files`; returns the commit sha."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    return commit_all(root, "initial")


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


PY_MODELS = '''"""Models of the shop."""

import decimal

TAX_RATE = decimal.Decimal("0.2")


class Cart:
    """A shopping cart."""

    max_items = 50

    def __init__(self, owner):
        self.owner = owner
        self.items = []

    def add_item(self, item, quantity=1):
        """Add `quantity` of `item`; quantities must be positive."""
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.items.append((item, quantity))

    def total_price(self):
        """Sum of item prices including tax, rounded to cents."""
        subtotal = sum(item.price * q for item, q in self.items)
        return round(subtotal * (1 + TAX_RATE), 2)


def empty_cart(owner):
    return Cart(owner)
'''

JS_ROUTER = '''export class Router {
  constructor(routes) {
    this.routes = routes;
  }

  matchPath(path) {
    return this.routes.find((r) => r.pattern.test(path));
  }
}

export function normalizeSlashes(path) {
  return path.replace(/\\/+/g, "/");
}

const DEFAULT_ROUTE = { pattern: /.*/ };
'''

TS_CACHE = '''export interface CacheEntry {
  key: string;
  expiresAt: number;
}

export class LruCache<T> {
  private entries: Map<string, T> = new Map();

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  evictExpired(now: number): void {
    this.entries.clear();
  }
}

export const makeCache = (size: number): LruCache<string> => {
  return new LruCache<string>();
};
'''

JAVA_PARSER = '''package shop;

public class InvoiceParser {
    private static final int MAX_LINES = 100;

    public InvoiceParser() {
    }

    public Invoice parse(String text) {
        return new Invoice(text);
    }

    static class Line {
        int amount;
        int amount() { return amount; }
    }
}
'''

GO_SERVER = '''package server

import "net/http"

const DefaultPort = 8080

type Server struct {
	Addr string
}

func (s *Server) Start() error {
	return http.ListenAndServe(s.Addr, nil)
}

func NewServer(addr string) *Server {
	return &Server{Addr: addr}
}
'''

SHOP_FILES: dict[str, str | bytes] = {
    "shop/models.py": PY_MODELS,
    "shop/__init__.py": "",
    "web/router.js": JS_ROUTER,
    "web/cache.ts": TS_CACHE,
    "java/shop/InvoiceParser.java": JAVA_PARSER,
    "server/server.go": GO_SERVER,
    "tests/test_models.py": "from shop.models import Cart\n\n\ndef test_cart():\n    Cart('a')\n",
    "README.md": "# shop\n",
}
