import threading

def work():
    print(sum(range(10)))

worker = threading.Thread(target=work)
worker.start()
worker.join()
