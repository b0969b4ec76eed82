# gnuplot script for the report's plots: run from bench/ by scripts/bench.
# Every curve is the median of the runs, with bars from the lowest run to
# the highest (bench/report.py writes the .dat files).
set terminal pngcairo size 1040,520 font "sans,11"
set grid

# Queue throughput. The legend goes beside the plot, where no curve is.
set output "plots/queue_sizes.png"
set title "Queue throughput, 1 producer -> 1 consumer process"
set key outside right top vertical Left reverse
set logscale x 2
set logscale y 10
set xlabel "message size"
set xtics ("64 B" 64, "1 KiB" 1024, "16 KiB" 16384, "256 KiB" 262144, "1 MiB" 1048576)
set xrange [40:1.6e6]
set ylabel "GiB/s"
plot "queue_sizes.dat" using 1:2:3:4 with yerrorlines lw 2 pt 7 title "mproc Queue", \
     "" using 1:5:6:7 with yerrorlines lw 2 pt 5 title "Python multiprocessing.Queue", \
     "" using 1:8:9:10 with yerrorlines lw 2 dt 2 pt 9 title "raw pipe"

# Speed-up against workers. The ideal (one worker per CPU, flat beyond)
# is drawn first, wide and pale, so the mproc curve over it leaves it
# showing on both sides; a dotted line marks the machine's CPUs.
set output "plots/speedup.png"
set title "CPU-bound map: speed-up over 1 worker"
stats "speedup.dat" using 9 nooutput
cpus = int(STATS_max)
unset logscale
set xrange [0.5:8.5]
set xtics 1
set xlabel "workers"
set ylabel "speed-up"
set yrange [0:*]
set key outside right top vertical Left reverse
set arrow 1 from cpus, graph 0 to cpus, graph 1 nohead dt 3 lw 2 lc rgb "gray40"
set label 1 sprintf("%d CPUs", cpus) at cpus, graph 0.05 offset 0.6, 0 left textcolor rgb "gray30"
plot "speedup.dat" using 1:8 with lines lw 12 lc rgb "#d9d9d9" title "ideal on this machine", \
     "" using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "mproc Pool", \
     "" using 1:5:6:7 with yerrorlines lw 2 pt 5 lc rgb "#d62728" title "Python multiprocessing.Pool"
