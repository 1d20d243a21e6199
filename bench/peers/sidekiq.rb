# Sidekiq's side of bench/peers.sh: a no-op job, and the client commands.
#   worker: sidekiq -r bench/peers/sidekiq.rb -c C   (PEER_N, PEER_OUT)
#     after the PEER_N-th job writes to PEER_OUT the rate (jobs/s from the
#     first job to the last) or, for jobs carrying a time in ms, each job's
#     start minus that time, sorted.
#   client: ruby bench/peers/sidekiq.rb enqueue single|bulk N
#                                       delayed N SPAN_MS | idle N GAP_MS
# REDIS_URL names the Redis.
require 'sidekiq'
Redis.silence_deprecations = true

# Skip the 10 s wait before the first scheduled-set poll: a fresh process
# would otherwise start every delayed job of a short run late.
Sidekiq.options[:poll_interval_average] = 5

def now_ms
  Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond)
end

class NoopJob
  include Sidekiq::Worker
  LOCK = Mutex.new
  STATE = { n: 0, t0: nil, lat: [] }

  def perform(ts = nil)
    t = now_ms
    LOCK.synchronize do
      STATE[:t0] ||= t
      STATE[:lat] << t - ts if ts
      STATE[:n] += 1
      next unless STATE[:n] == Integer(ENV['PEER_N'])

      File.write(ENV['PEER_OUT'] + '.tmp',
                 ts ? STATE[:lat].sort.map { |x| format('%.3f', x) }.join("\n") + "\n"
                    : format("%.0f\n", (STATE[:n] - 1) * 1000.0 / (t - STATE[:t0])))
      File.rename(ENV['PEER_OUT'] + '.tmp', ENV['PEER_OUT'])
    end
  end
end

if $PROGRAM_NAME == __FILE__
  cmd, n, arg = ARGV[0], Integer(ARGV[1]), ARGV[2]
  case cmd
  when 'enqueue'
    t0 = now_ms
    if arg == 'bulk'
      (0...n).each_slice(1000) do |s|
        Sidekiq::Client.push_bulk('class' => NoopJob, 'args' => s.map { [] })
      end
    else
      n.times { Sidekiq::Client.push('class' => NoopJob, 'args' => []) }
    end
    printf("%.0f\n", n * 1000.0 / (now_ms - t0))
  when 'delayed'
    start = now_ms + 1000
    n.times do
      due = start + rand(Integer(arg))
      NoopJob.perform_at(due / 1000.0, due)
    end
  when 'idle'
    n.times do
      sleep(Integer(arg) / 1000.0)
      NoopJob.perform_async(now_ms)
    end
  end
end
