#!/bin/sh
# Installs Rails' ActiveJob 6.1 and GlobalID (Debian's ruby-activejob, ruby-globalid), which the
# ActiveJob live tests (compat/live/activejob.test.ts) load beside the real Sidekiq 6.4.1.
# Idempotent: does nothing when `require "active_job"; require "global_id"` already works.
# Needs root and access to Debian's mirrors (CI's .ci/run has both).
set -eu

if command -v ruby >/dev/null 2>&1 && ruby -e 'require "active_job"; require "global_id"' >/dev/null 2>&1; then
  echo "install-ruby-activejob: already installed: activejob $(ruby -e 'require "active_job"; print ActiveJob::VERSION::STRING'), nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-ruby-activejob: ruby-activejob / ruby-globalid are missing and this needs root (apt-get)" >&2
  exit 1
fi

echo "install-ruby-activejob: installing ruby-activejob and ruby-globalid with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ruby-activejob ruby-globalid

version=$(ruby -e 'require "active_job"; print ActiveJob::VERSION::STRING')
echo "install-ruby-activejob: installed activejob $version"
case "$version" in
  6.1.*) ;;
  *) echo "install-ruby-activejob: warning: expected activejob 6.1, got $version; the live tests assume 6.1" >&2 ;;
esac
