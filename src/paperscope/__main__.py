from paperscope.cli import run

run()
