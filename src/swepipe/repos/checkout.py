"""Repositories at a commit, cached on disk and shared by every instance of that commit.

Sources, in order: a directory of ready trees (`trees_dir/<instance_id>/`, each the instance's
repository at its base commit, used as is: the layout of `repos-verified-dev/`), a directory of local clones (`repos_dir/<owner>__<name>`, bare or not), then,
only when `allow_network` is set, a clone from `clone_url` kept under `<cache>/_clones/`.

A checkout is `<cache_dir>/<owner>__<name>/<full sha>`: a plain directory tree (no `.git`) written
by `git read-tree` + `git checkout-index` with a private index file. That leaves the source clone
untouched (no worktree bookkeeping, no index change) and, unlike `git archive`, ignores
`export-ignore` attributes, which some repositories set on their tests. It is built in a
temporary sibling and renamed into place under a lock file (`locking.build_dir_once`), so two
tasks or two processes asking for the same checkout get one build and never see half of it.
Components must treat checkouts as read-only: they are shared.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field

from swepipe.errors import InputError
from swepipe.repos.locking import build_dir_once, build_dir_once_async

_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class CheckoutConfig(BaseModel):
    """Where repositories come from and where checkouts are cached (runtime settings)."""

    model_config = {"extra": "forbid"}

    cache_dir: Path
    """Checkouts live in `<cache_dir>/<owner>__<name>/<commit>`; clones in `<cache_dir>/_clones`."""
    repos_dir: Path | None = None
    """Directory of local clones named `<owner>__<name>` (e.g. `django__django`)."""
    trees_dir: Path | None = None
    """Directory of ready checkouts named `<instance_id>` (a plain tree at the instance's base
    commit, no `.git`); consulted before `repos_dir`, and used as is (never copied)."""
    allow_network: bool = False
    """Clone repositories missing from `repos_dir` and fetch missing commits from `clone_url`."""
    clone_url: str = "https://github.com/{repo}.git"
    """Clone URL template; `{repo}` is `owner/name`, `{dirname}` is `owner__name`."""
    git_timeout_s: Annotated[float, Field(gt=0)] = 600.0
    """Upper bound for one git command (a django clone takes about a minute)."""


def repo_dirname(repo: str) -> str:
    """`owner/name` -> `owner__name`, the directory name SWE-bench tooling uses."""
    if not _REPO_RE.match(repo) or ".." in repo:
        raise InputError(f"repository {repo!r} is not of the form owner/name", field="repo")
    return repo.replace("/", "__")


def require_dir(path: Path | str, field: str) -> Path:
    """`path` as a directory that exists, or an `InputError` naming `field`."""
    found = Path(path).expanduser()
    if not found.is_dir():
        raise InputError(f"{field} {path} is not a directory", field=field)
    return found


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # Never prompt for credentials and never download LFS objects during a checkout.
    env.update(GIT_TERMINAL_PROMPT="0", GIT_LFS_SKIP_SMUDGE="1")
    return env


class Checkouts:
    """Hands out repository checkouts at a commit. Thread-, task- and process-safe."""

    def __init__(self, config: CheckoutConfig) -> None:
        self.config = config
        self.cache_dir = Path(config.cache_dir).expanduser()
        self.repos_dir = Path(config.repos_dir).expanduser() if config.repos_dir else None
        self.trees_dir = Path(config.trees_dir).expanduser() if config.trees_dir else None

    # ------------------------------------------------------------------ public

    def tree_for(self, instance_id: str | None) -> Path | None:
        """`<trees_dir>/<instance_id>` when it is a directory, else None (no trees_dir, no id,
        or this instance has no tree there; the clones are tried next)."""
        if self.trees_dir is None or not instance_id:
            return None
        if "/" in instance_id or "\\" in instance_id or instance_id in (".", ".."):
            raise InputError(f"instance id {instance_id!r} cannot name a folder of trees_dir",
                             field="instance_id")
        tree = self.trees_dir / instance_id
        return tree.absolute() if tree.is_dir() else None

    def checkout(self, repo: str, commit: str, instance_id: str | None = None) -> Path:
        """The directory holding `repo` at `commit`: the instance's ready tree when
        `trees_dir` has one, else a checkout built on first use from a clone."""
        tree = self.tree_for(instance_id)
        if tree is not None:
            return tree
        clone = self.clone_for(repo)
        sha = self.resolve_commit(clone, repo, commit)
        final = self.cache_dir / repo_dirname(repo) / sha
        return build_dir_once(final, lambda tmp: self._materialize(clone, sha, tmp))

    async def checkout_async(self, repo: str, commit: str,
                             instance_id: str | None = None) -> Path:
        """`checkout` without blocking the event loop (git and the lock run in a thread)."""
        import asyncio

        tree = self.tree_for(instance_id)
        if tree is not None:
            return tree
        clone = await asyncio.to_thread(self.clone_for, repo)
        sha = await asyncio.to_thread(self.resolve_commit, clone, repo, commit)
        final = self.cache_dir / repo_dirname(repo) / sha
        return await build_dir_once_async(
            final, lambda tmp: asyncio.to_thread(self._materialize, clone, sha, tmp))

    def clone_for(self, repo: str) -> Path:
        """The git directory to read `repo` from (a local clone, or one made on demand)."""
        name = repo_dirname(repo)
        if self.repos_dir is not None:
            for candidate in (self.repos_dir / name, self.repos_dir / f"{name}.git",
                              self.repos_dir / repo):
                if candidate.is_dir() and self._is_git(candidate):
                    return candidate
        mirror = self.cache_dir / "_clones" / f"{name}.git"
        if mirror.exists():
            return mirror
        if not self.config.allow_network:
            where = self.repos_dir / name if self.repos_dir else "(no repos_dir)"
            trees = f" and no tree in {self.trees_dir}" if self.trees_dir else ""
            raise InputError(f"no local clone of {repo} at {where}{trees}; add it there or "
                             "set allow_network to clone it", field="repo")
        url = self.config.clone_url.format(repo=repo, dirname=name)
        return build_dir_once(mirror, lambda tmp: self._git(
            None, "clone", "--bare", "--quiet", url, str(tmp), what=f"cloning {url}"))

    def resolve_commit(self, clone: Path, repo: str, commit: str) -> str:
        """The full sha of `commit` in `clone`; fetched first when missing and allowed."""
        if not commit or commit.startswith("-") or any(c.isspace() for c in commit):
            raise InputError(f"invalid commit {commit!r} for {repo}", field="base_commit")
        sha = self._rev_parse(clone, commit)
        if sha is None and self.config.allow_network:
            self._git(clone, "fetch", "--quiet", "origin", commit, what=f"fetching {commit}",
                      check=False)
            sha = self._rev_parse(clone, commit)
        if sha is None:
            raise InputError(f"commit {commit} not found in the clone of {repo} at {clone}",
                             field="base_commit")
        return sha

    # ------------------------------------------------------------------ git

    def _materialize(self, clone: Path, sha: str, dest: Path) -> None:
        git_dir = self._git(clone, "rev-parse", "--absolute-git-dir", what="locating .git")
        index = dest.parent / f"{dest.name}.index"
        env = {"GIT_INDEX_FILE": str(index)}
        base = ["--git-dir", git_dir.strip(), "--work-tree", str(dest),
                "-c", "core.autocrlf=false", "-c", "core.symlinks=true"]
        try:
            self._git(None, *base, "read-tree", sha, what=f"reading tree {sha}", env=env)
            self._git(None, *base, "checkout-index", "--all", "--force", what="writing files",
                      env=env)
        finally:
            index.unlink(missing_ok=True)

    def _rev_parse(self, clone: Path, commit: str) -> str | None:
        out = self._git(clone, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}",
                        what="resolving commit", check=False)
        return out.strip() or None

    def _is_git(self, path: Path) -> bool:
        return (path / ".git").exists() or (path / "HEAD").is_file() and (path / "objects").is_dir()

    def _git(self, cwd: Path | None, *args: str, what: str, check: bool = True,
             env: dict[str, str] | None = None) -> str:
        cmd = ["git", *(["-C", str(cwd)] if cwd else []), *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env={**_git_env(),
                                  **(env or {})}, timeout=self.config.git_timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise InputError(f"git timed out while {what}: {' '.join(cmd)}") from exc
        if proc.returncode != 0:
            if not check:
                return ""
            raise InputError(f"git failed while {what}: {proc.stderr.strip()[:500]}")
        return proc.stdout
