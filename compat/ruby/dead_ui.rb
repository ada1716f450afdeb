# frozen_string_literal: true

# compat/ruby/dead_ui.rb: reads every `dead` and `retry` entry with the real Sidekiq 6.4.1 API
# and renders the Web UI pages that show them, so kiqgate's live tests can prove that nothing
# kiqgate writes to those sets breaks a Sidekiq operator's tools (issue 15).
# Run as `REDIS_URL=... ruby compat/ruby/dead_ui.rb`; prints one JSON document:
#
#   {"sets": {"dead"|"retry": {"size", "iterated", "error" (DeadSet#each itself raised, or null),
#             "entries": [{"jid", "klass", "display_class", "args", "display_args",
#                          "error_message", "error_class", "at", "score", "value",
#                          "errors": [what raised, per accessor]}]}},
#    "pages": [{"path", "status", "mentions" (the page names what it should), "error"}]}
#
# Values are written with #inspect (truncated to 300 characters) where they may be any Ruby
# object, so the summary itself never fails to encode; `value` is the raw member from Redis
# (valid UTF-8 or scrubbed, truncated), for the test to tell entries apart.
#
# Pages go through Rack::MockRequest on Sidekiq::Web with an in-memory session hash (its CSRF
# middleware needs `rack.session`; a GET never checks a token). Each page is asked for every
# entry at once (`count`), and each entry's own page is /morgue/<score>-<jid> or
# /retries/<score>-<jid>, the link the list pages build (job_params).

require "json"
require "cgi"
require "sidekiq"
require_relative "client_setup"
require "sidekiq/api"
require "sidekiq/web"
require "rack/mock"

def short(v)
  s = v.inspect
  s = s.scrub("?") unless s.valid_encoding?
  s.length > 300 ? "#{s[0, 300]}..." : s
end

def raw_text(v)
  s = v.to_s.dup.force_encoding(Encoding::UTF_8)
  s = s.scrub("?") unless s.valid_encoding?
  s.length > 300 ? s[0, 300] : s
end

ACCESSORS = %w[jid klass display_class args display_args error_message error_class at score].freeze

def read_entry(e)
  out = {"value" => raw_text(e.value), "errors" => []}
  ACCESSORS.each do |name|
    v = case name
        when "error_message", "error_class" then e[name]
        when "at" then e.at.to_f
        else e.public_send(name)
    end
    out[name] = %w[at score].include?(name) ? v : short(v)
    out["#{name}_raw"] = v if name == "jid" && v.is_a?(String)
  rescue => ex
    out[name] = nil
    out["errors"] << "#{name}: #{ex.class}: #{ex.message}"
  end
  out
end

def read_set(set)
  entries = []
  error = nil
  begin
    set.each { |e| entries << read_entry(e) }
  rescue => ex
    error = "#{set.class}#each: #{ex.class}: #{ex.message}"
  end
  {"size" => set.size, "iterated" => entries.size, "error" => error, "entries" => entries}
end

APP = Rack::MockRequest.new(Sidekiq::Web)

def page(path, must_mention)
  res = APP.get(path, "rack.session" => {})
  body = res.body.to_s.dup.force_encoding(Encoding::UTF_8)
  missing = must_mention.reject { |m| body.include?(m) }
  {"path" => path, "status" => res.status, "mentions" => missing.empty?, "missing" => missing.map { |m| short(m) }, "error" => nil}
rescue => ex
  {"path" => path, "status" => nil, "mentions" => false, "missing" => [], "error" => "#{ex.class}: #{ex.message}"}
end

sets = {"dead" => read_set(Sidekiq::DeadSet.new), "retry" => read_set(Sidekiq::RetrySet.new)}

# What a page must show for an entry: its jid (the link to its own page is built from it).
jids = ->(name) { sets[name]["entries"].map { |e| e["jid_raw"] } }
pages = [page("/", []), page("/queues", [])]
{"dead" => "morgue", "retry" => "retries"}.each do |name, route|
  raw = Sidekiq.redis { |c| c.zrange(name, 0, -1, withscores: true) }
  list_mentions = jids.call(name).map { |j| j.nil? ? "(entry without a jid)" : CGI.escapeHTML(j) }
  pages << page("/#{route}?count=#{raw.size + 1}", list_mentions)
  raw.each do |member, score|
    item = begin
      JSON.parse(member)
    rescue JSON::ParserError
      nil
    end
    jid = item.is_a?(Hash) ? item["jid"] : nil
    # The list page links to "#{score}-#{jid}" (job_params); an entry without a jid links to
    # "#{score}-", which finds nothing.
    pages << page("/#{route}/#{score}-#{CGI.escape(jid.to_s)}", jid.is_a?(String) ? [CGI.escapeHTML(jid)] : ["(entry without a jid)"])
  end
end

puts JSON.generate({"sets" => sets, "pages" => pages})
