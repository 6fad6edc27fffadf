# logging as PyMOTW's threading examples use it: %(threadName)s on every line, levels, named
# loggers (the last-resort handler before any configuration), basicConfig(force=True).
import logging
import threading
import time

logging.basicConfig(level=logging.DEBUG,
                    format='(%(threadName)-10s) %(message)s',
                    )

def worker(pause=0.02):
    logging.debug('Starting')
    time.sleep(pause)
    logging.debug('Exiting')

def my_service():
    logging.debug('Starting %s', 'service')
    time.sleep(0.3)
    logging.debug('Exiting')

t = threading.Thread(name='my_service', target=my_service)
w = threading.Thread(name='worker', target=worker)
w2 = threading.Thread(target=worker, args=(0.15,)) # use default name
w.start()
w2.start()
t.start()
for x in (w, w2, t):
    x.join()
log = logging.getLogger("app.db")
log.info("connected to %s:%d", "db", 5432)
log.setLevel(logging.WARNING)
log.info("hidden")
log.warning("careful %(what)s", {"what": "now"})
logging.warning("levelname %s", "root")
print(log.getEffectiveLevel(), logging.getLogger().getEffectiveLevel(), log.isEnabledFor(logging.ERROR))

log = logging.getLogger(__name__)
log.info("not shown")
log.warning("last resort %d", 1)
logging.info("not shown either")
logging.warning("auto %s", "configured")
logging.error("bad")
log.error("now through root")
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(processName)s: %(message)s", force=True)
logging.info("forced %s", "again")
logging.getLogger("x").critical("crit")
logging.log(logging.WARNING, "via log")
