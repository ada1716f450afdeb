# Loaded by `sidekiq -r ./activejob_jobs.rb`: ActiveJob and the job classes of the live tests.
#   COMPAT_POLL_INTERVAL_AVERAGE  optional: the scheduled poller's average interval in seconds.
require_relative "activejob_setup"
Sidekiq.configure_server do |config|
  if (avg = ENV["COMPAT_POLL_INTERVAL_AVERAGE"]) && !avg.empty?
    config.options[:poll_interval_average] = Float(avg)
  end
end
