# The lean layout `make run` starts on one small host (timelapser/launch.py runs it): one web
# process of 4 threads, one capture worker (capture + maintenance queues, beat as a thread in
# it) and one render worker (one render at a time, in the worker process itself). The
# production layout, many hosts and concurrency to match, is the Procfile (README, "Layouts").
# CELERY_SKIP_CHECKS: Django's system checks load the URLconf, and with it the whole API stack
# (~20 MB a process); `make run` has just run them in `manage.py bootstrap`.
web: gunicorn timelapser.wsgi --bind ${BIND:-127.0.0.1:8000} --workers ${WEB_CONCURRENCY:-1} --threads ${WEB_THREADS:-4} --no-control-socket --access-logfile -
worker: env CELERY_SKIP_CHECKS=1 celery -A timelapser worker --queues capture,maintenance --pool threads --concurrency ${CAPTURE_CONCURRENCY:-4} --beat-thread --hostname capture@%h --loglevel INFO
renderer: env CELERY_SKIP_CHECKS=1 celery -A timelapser worker --queues render --pool solo --hostname render@%h --loglevel INFO
