"""The wrk Lua script every page benchmark uses: walk a list of paths, each thread from
its own share of it, so that no page is asked for twice until the list runs out (an
uncached page stays uncached), optionally with a signed-in reader's session cookie."""

from __future__ import annotations

from pathlib import Path

PATHS_LUA = """\
local paths = {}
local pos = 0
local counter = 0
local nthreads = %(threads)d

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
  pos = math.floor(tid * #paths / nthreads)
  if "%(cookie)s" ~= "" then wrk.headers["Cookie"] = "%(cookie)s" end
end

function request()
  pos = pos + 1
  if pos > #paths then pos = 1 end
  return wrk.format("GET", paths[pos])
end
"""


def paths_script(work: Path, name: str, paths: list[str], threads: int, cookies: dict[str, str] | None = None) -> Path:
    """Write the script for `paths` (and its list) into `work`; returns the script's path."""
    listing = work / f"{name}-paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = work / f"{name}.lua"
    cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    script.write_text(PATHS_LUA % {"threads": threads, "paths": listing, "cookie": cookie})
    return script
