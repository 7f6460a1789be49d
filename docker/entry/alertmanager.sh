#!/bin/sh
# The monitoring profile's Alertmanager (Debian 12's prometheus-alertmanager): receives the
# gateway's alerts from the profile's Prometheus and delivers them as its configuration says,
# mounted at /etc/mcs-lb/alertmanager.yml (default: metrics-bridge/alertmanager.yml, a sample to
# replace with your receiver). One instance: no cluster port.
set -eu

exec prometheus-alertmanager --config.file=/etc/mcs-lb/alertmanager.yml \
	--storage.path=/var/lib/prometheus/alertmanager --web.listen-address=:9093 --cluster.listen-address=
