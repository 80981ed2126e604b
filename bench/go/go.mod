module gosync.invalid/bench/go

go 1.19
