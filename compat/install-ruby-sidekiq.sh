#!/bin/sh
# Installs the real Sidekiq 6.4.1 (Debian's ruby-sidekiq, with Ruby 3.1 and redis-rb 4.8) that
# kiqgate's live compatibility harness (compat/live, compat/capture) runs against.
# Idempotent: does nothing when `require "sidekiq"` already works. Needs root and access to
# Debian's mirrors (CI's .ci/run has both).
set -eu

if command -v ruby >/dev/null 2>&1 && ruby -e 'require "sidekiq"' >/dev/null 2>&1; then
  echo "install-ruby-sidekiq: already installed: sidekiq $(ruby -e 'require "sidekiq"; print Sidekiq::VERSION') ($(ruby -e 'print RUBY_VERSION')), nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-ruby-sidekiq: ruby-sidekiq is missing and this needs root (apt-get)" >&2
  exit 1
fi

echo "install-ruby-sidekiq: ruby-sidekiq not found, installing it with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ruby-sidekiq

version=$(ruby -e 'require "sidekiq"; print Sidekiq::VERSION')
echo "install-ruby-sidekiq: installed sidekiq $version ($(ruby -e 'print RUBY_VERSION'))"
if [ "$version" != "6.4.1" ]; then
  echo "install-ruby-sidekiq: warning: expected sidekiq 6.4.1, got $version; the live tests assume 6.4.1" >&2
fi
