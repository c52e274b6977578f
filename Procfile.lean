# The lean layout `make run` starts on one small host (timelapser/launch.py runs it): one web
# process of 4 threads, one capture worker (capture + maintenance queues, beat as a thread in
# it) and one render worker (one render at a time, in the worker process itself). The
# production layout, many hosts and concurrency to match, is the Procfile (README, "Layouts").
web: gunicorn timelapser.wsgi --bind ${BIND:-127.0.0.1:8000} --workers ${WEB_CONCURRENCY:-1} --threads ${WEB_THREADS:-4} --no-control-socket --access-logfile -
worker: celery -A timelapser worker --queues capture,maintenance --pool threads --concurrency ${CAPTURE_CONCURRENCY:-4} --beat-thread --hostname capture@%h --loglevel INFO
renderer: celery -A timelapser worker --queues render --pool solo --hostname render@%h --loglevel INFO
