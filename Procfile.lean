# The lean layout `make run` starts on one small host (timelapser/launch.py runs it): one web
# process of 4 threads, one capture worker (capture + maintenance queues, beat as a thread in
# it) and one render worker (one render at a time, in the worker process itself). The
# production layout, many hosts and concurrency to match, is the Procfile (README, "Layouts").
# CELERY_SKIP_CHECKS: Django's system checks load the URLconf, and with it the whole API stack
# (~20 MB a process); `make run` has just run them in `manage.py bootstrap`. TIMELAPSER_WORKER:
# no admin autodiscovery and no django-ninja app in a worker (settings; 103 -> 76 MB after setup).
# MALLOC_ARENA_MAX=2: glibc gives each thread that allocates an arena of its own (up to 8 a
# core); two are plenty for threads that mostly wait on sockets. Gossip, mingle and heartbeat
# are for workers watching each other: nothing here uses them, and mingle waits at startup.
# TIMELAPSER_RENDER_THREADS=1: one x264 thread, ~70 MB less for a 1080p render and the other
# core left to captures and the web; renders take about twice as long (README, "Layouts").
# python -m timelapser.worker: `celery worker` without the `celery` command line, which keeps
# click-repl, prompt_toolkit and every other subcommand loaded for good (~9 MB a worker); same
# options, same app.Worker (timelapser/worker.py).
web: env MALLOC_ARENA_MAX=2 gunicorn timelapser.wsgi --bind ${BIND:-127.0.0.1:8000} --workers ${WEB_CONCURRENCY:-1} --threads ${WEB_THREADS:-4} --no-control-socket --access-logfile -
worker: env CELERY_SKIP_CHECKS=1 TIMELAPSER_WORKER=1 MALLOC_ARENA_MAX=2 python -m timelapser.worker --without-gossip --without-mingle --without-heartbeat --queues capture,maintenance --pool threads --concurrency ${CAPTURE_CONCURRENCY:-4} --beat-thread --hostname capture@%h --loglevel INFO
renderer: env CELERY_SKIP_CHECKS=1 TIMELAPSER_WORKER=1 MALLOC_ARENA_MAX=2 TIMELAPSER_RENDER_THREADS=${TIMELAPSER_RENDER_THREADS:-1} python -m timelapser.worker --without-gossip --without-mingle --without-heartbeat --queues render --pool solo --hostname render@%h --loglevel INFO
