# gnuplot script for the report's plots: run from bench/ by scripts/bench.
set terminal pngcairo size 800,500 font "sans,11"
set grid
set key top left

set output "plots/queue_sizes.png"
set title "Queue throughput, 1 producer -> 1 consumer process"
set logscale x 2
set logscale y 10
set xlabel "message size"
set xtics ("64 B" 64, "1 KiB" 1024, "16 KiB" 16384, "256 KiB" 262144, "1 MiB" 1048576)
set xrange [40:1.6e6]
set ylabel "GiB/s"
plot "queue_sizes.dat" using 1:2 with linespoints lw 2 title "mproc Queue", \
     "" using 1:3 with linespoints lw 2 title "Python multiprocessing.Queue", \
     "" using 1:4 with linespoints lw 2 dt 2 title "raw pipe"

set output "plots/speedup.png"
set title "CPU-bound map: speed-up against 1 worker"
unset logscale
set autoscale x
set xrange [0.8:4.2]
set xlabel "workers"
set ylabel "speed-up"
set xtics 1
set yrange [0:*]
set key bottom right
plot "speedup.dat" using 1:2 with linespoints lw 2 title "mproc Pool", \
     "" using 1:3 with linespoints lw 2 title "Python multiprocessing.Pool", \
     "" using 1:4 with lines dt 2 title "ideal on this machine"
