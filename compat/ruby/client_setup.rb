# Shared setup of the Ruby scripts the live tests run (api.rb, dead_ui.rb, jobs.rb, producer.rb):
# the Redis from REDIS_URL, as Sidekiq's client uses it.

require "sidekiq"

# redis-rb 4.8 warns about calls Sidekiq 6.4.1 itself makes (brpop timeout, sadd); those
# warnings are noise here, not wire behaviour.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

REDIS_URL = ENV.fetch("REDIS_URL") { abort "compat/ruby: REDIS_URL is not set" }
Sidekiq.configure_client { |config| config.redis = {url: REDIS_URL} }
