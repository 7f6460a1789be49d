#!/bin/sh
# The monitoring profile's Prometheus (Debian 12's, the one `promtool test rules` proves the
# alerts with): scrapes the metrics bridge of this pair every 15 s, loads the shipped alert
# rules, mounted at /etc/mcs-lb/alerts.yml, and sends firing alerts to the profile's
# Alertmanager. Reads PROMETHEUS_PORT (the bridge's port).
set -eu

: "${PROMETHEUS_PORT:?PROMETHEUS_PORT is not set}"
conf=/tmp/prometheus.yml
cat >"$conf" <<YAML
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - /etc/mcs-lb/alerts.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
scrape_configs:
  - job_name: mcs-lb
    static_configs:
      - targets: ["metrics-bridge:$PROMETHEUS_PORT"]
YAML
exec prometheus --config.file="$conf" --storage.tsdb.path=/var/lib/prometheus/metrics2 \
	--storage.tsdb.retention.time=15d --web.listen-address=:9090
