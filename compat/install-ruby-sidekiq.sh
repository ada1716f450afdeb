#!/bin/sh
# Installs the real Ruby peers kiqgate's live tests run against, from Debian: Sidekiq 6.4.1
# (ruby-sidekiq, with Ruby 3.1 and redis-rb 4.8) for compat/live and compat/capture, and Rails'
# ActiveJob 6.1 with GlobalID (ruby-activejob, ruby-globalid), which compat/live/activejob.test.ts
# loads beside that Sidekiq.
# Idempotent: does nothing when all three already load. Needs root and access to Debian's mirrors
# (CI's .ci/run has both).
set -eu

loads() { command -v ruby >/dev/null 2>&1 && ruby -e 'require "sidekiq"; require "active_job"; require "global_id"' >/dev/null 2>&1; }
versions() { ruby -e 'require "sidekiq"; require "active_job"; print "sidekiq #{Sidekiq::VERSION}, activejob #{ActiveJob::VERSION::STRING} (ruby #{RUBY_VERSION})"'; }

if loads; then
  echo "install-ruby-sidekiq: already installed: $(versions), nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-ruby-sidekiq: ruby-sidekiq / ruby-activejob / ruby-globalid are missing and this needs root (apt-get)" >&2
  exit 1
fi

echo "install-ruby-sidekiq: installing ruby-sidekiq, ruby-activejob and ruby-globalid with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q ruby-sidekiq ruby-activejob ruby-globalid

echo "install-ruby-sidekiq: installed $(versions)"
sidekiq=$(ruby -e 'require "sidekiq"; print Sidekiq::VERSION')
activejob=$(ruby -e 'require "active_job"; print ActiveJob::VERSION::STRING')
[ "$sidekiq" = "6.4.1" ] || echo "install-ruby-sidekiq: warning: expected sidekiq 6.4.1, got $sidekiq; the live tests assume 6.4.1" >&2
case "$activejob" in
  6.1.*) ;;
  *) echo "install-ruby-sidekiq: warning: expected activejob 6.1, got $activejob; the live tests assume 6.1" >&2 ;;
esac
