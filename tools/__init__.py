"""Entry points: the `pernav` console command and the scripts it dispatches to."""
