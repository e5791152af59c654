#!/usr/bin/env bash
# Starts Debian's nginx with the Nchan module on loopback, with a generated config in a temp
# directory (pid, logs and temp paths there, so it also works as root), as the peer of the
# benchmark: EventSource subscriber at /sub?id=CHANNEL, publisher at /pub?id=CHANNEL, message
# buffer on (1000 messages or 1 h per channel, like Herald's replay.* defaults).
#
#   bench/nchan.sh start DIR [PORT]   prints the master's pid; nginx stops by itself after
#                                     NCHAN_MAX_SECONDS (default 3600) whatever happens
#   bench/nchan.sh stop DIR
#   bench/nchan.sh available          exit 0 when nginx and the nchan module are installed
#
# Install on Debian/Ubuntu: apt-get install -y nginx-light libnginx-mod-nchan  (or nginx)
set -euo pipefail
cmd=${1:-}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}

case "$cmd" in
  available)
    [ -x "$NGINX" ] && [ -f "$MODULE" ]
    ;;
  start)
    DIR=$2
    PORT=${3:-18190}
    [ -x "$NGINX" ] && [ -f "$MODULE" ] || { echo "nginx with nchan not installed: apt-get install -y nginx-light libnginx-mod-nchan" >&2; exit 3; }
    mkdir -p "$DIR/tmp"
    WORKERS=${NCHAN_WORKERS:-$(nproc)}
    cat > "$DIR/nginx.conf" <<CONF
load_module $MODULE;
worker_processes $WORKERS;
worker_rlimit_nofile 20000;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events {
  worker_connections 20000;
}
http {
  access_log off;
  client_body_temp_path $DIR/tmp/body;
  proxy_temp_path $DIR/tmp/proxy;
  fastcgi_temp_path $DIR/tmp/fastcgi;
  uwsgi_temp_path $DIR/tmp/uwsgi;
  scgi_temp_path $DIR/tmp/scgi;
  keepalive_requests 1000000;
  nchan_shared_memory_size 512M;
  nchan_message_buffer_length 1000;
  nchan_message_timeout 1h;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id \$arg_id;
    }
    location = /pub {
      nchan_publisher;
      nchan_channel_id \$arg_id;
    }
  }
}
CONF
    # -p: prefix in DIR, so nothing is read or written under /etc or /var.
    nohup timeout --signal=QUIT "${NCHAN_MAX_SECONDS:-3600}" "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -g 'daemon off;' \
      > "$DIR/nginx.out" 2>&1 &
    for _ in $(seq 1 100); do
      if [ -s "$DIR/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$PORT/pub?id=ping" -d x; then
        cat "$DIR/nginx.pid"
        exit 0
      fi
      sleep 0.1
    done
    echo "nginx did not start:" >&2
    cat "$DIR/nginx.out" "$DIR/error.log" >&2 2>/dev/null || true
    exit 1
    ;;
  stop)
    DIR=$2
    if [ -s "$DIR/nginx.pid" ]; then
      PID=$(cat "$DIR/nginx.pid")
      kill -QUIT "$PID" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
      kill -TERM "$PID" 2>/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start DIR [PORT] | stop DIR | available" >&2
    exit 2
    ;;
esac
