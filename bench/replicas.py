"""python -m bench.replicas: the same load through nginx, in front of 1 and then 2 app replicas, each pinned to one
core. Streamlit keeps a session in the memory of the server that holds its websocket (and uploads must reach that
server too), so the proxy must be sticky: here by a cookie, which nginx sets on a first visit and hashes on every
request after it (ip_hash would send every loopback client to one replica). Loopback only; every process started
here is stopped in a finally block.

    python -m bench.replicas --users 20 --steps 8 --think 0.3      # needs /usr/sbin/nginx (apt-get install nginx)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import APP
from .browser import LOOPBACK, Server, free_port
from .load import drive, table

NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  client_max_body_size 6m;  # the app accepts uploads up to 5 MB
  # Sticky sessions: the cookie "rnnlens" picks the replica; a first visit without one gets one (its request id,
  # which is also what that first request is routed by, so it lands where the session will live).
  map $cookie_rnnlens $route {{ "" $request_id; default $cookie_rnnlens; }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  upstream app {{
    hash $route consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      # Which replica answered: tests check stickiness with it (a production proxy would leave it out).
      add_header X-RNN-Lens-Replica $upstream_addr always;
      if ($cookie_rnnlens = "") {{
        add_header Set-Cookie "rnnlens=$request_id; Path=/; HttpOnly; SameSite=Lax";
        add_header X-RNN-Lens-Replica $upstream_addr always;
      }}
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }}
  }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise SystemExit("error: nginx not found (Debian: apt-get install -y nginx)")
    return found


def start_nginx(ports: list[int], tmp: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(exist_ok=True)
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, servers=servers, port=port))
    proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            with LOOPBACK.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"nginx did not come up: {(tmp / 'error.log').read_text()[-500:]}")


@contextlib.contextmanager
def cluster(n_replicas: int, env: dict | None = None):
    """N replicas (replica i pinned to core i mod cores) behind a sticky nginx: yields (proxy url, replica pids)."""
    replicas, proxy = [], None
    with tempfile.TemporaryDirectory(prefix="rnn-lens-nginx-") as tmp:
        try:
            for i in range(n_replicas):
                core = i % (os.cpu_count() or 1)
                replicas.append(Server(APP, env=env, prefix=["taskset", "-c", str(core)]).start())
            for r in replicas:
                r.wait_healthy()
            proxy, port = start_nginx([r.port for r in replicas], Path(tmp))
            yield f"http://127.0.0.1:{port}/", replicas
        finally:
            if proxy is not None:
                proxy.terminate()  # only the processes started here, by their pids
                proxy.wait(10)
            for r in replicas:
                r.stop()


def run(n_replicas: int, users: int, steps: int, think: float, ramp: float, timeout: float, words: int = 0) -> dict:
    with cluster(n_replicas) as (url, replicas):
        res = asyncio.run(drive(url, [r.proc.pid for r in replicas], users, steps, think, ramp, 0, timeout, words))
        res["replicas"] = n_replicas
        res["per_replica_rss_mb"] = [round(r.rss_mb(), 1) for r in replicas]
        return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", default="1,2", help="replica counts to compare, comma-separated")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--think", type=float, default=0.3)
    p.add_argument("--ramp", type=float, default=0.05)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--words", type=int, default=50, help="sentence length (50: the heaviest page)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    results = [run(int(n), args.users, args.steps, args.think, args.ramp, args.timeout, args.words)
               for n in args.replicas.split(",")]
    if args.json:
        print(json.dumps(results))
        return 0
    for res in results:
        print(f"--- {res['replicas']} replica(s) behind nginx (sticky cookie), one core each ---")
        print(table(res))
        print(f"{'RSS per replica':<48} {' / '.join(map(str, res['per_replica_rss_mb']))} MB")
    if len(results) == 2:
        a, b = results
        print(f"\nthroughput 1 → 2 replicas: {a['interactions_per_s']} → {b['interactions_per_s']} interactions/s "
              f"({b['interactions_per_s'] / max(a['interactions_per_s'], 1e-9):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
