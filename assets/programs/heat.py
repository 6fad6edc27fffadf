"""B. Nikolic's heat-diffusion benchmark ("Python GIL + numerical data processing")."""
# Adapted from: http://technicaldiscovery.blogspot.co.uk/2011/06/speeding-up-python-numpy-cython-and.html
import time
from numpy import zeros, array_split, linspace

N = 30
NP = 100
NITER = 30
KERNEL = "python"
IO_WAIT = 0.002
ENTRY = "calc"

dx = 0.1
dy = 0.1
dx2 = dx*dx
dy2 = dy*dy

# gilscope draws the first argument of these functions as the heat grid, one step per call.
__gilscope_state__ = ("py_update", "num_update")


def num_update(u):
    u[1:-1,1:-1] = ((u[2:,1:-1]+u[:-2,1:-1])*dy2 +
                    (u[1:-1,2:] + u[1:-1,:-2])*dx2) / (2*(dx2+dy2))


def py_update(u):
    nx, ny = u.shape
    for i in range(1,nx-1):
        for j in range(1, ny-1):
            u[i,j] = ((u[i+1, j] + u[i-1, j]) * dy2 +
                      (u[i, j+1] + u[i, j-1]) * dx2) / (2*(dx2+dy2))


def io_update(u):
    time.sleep(IO_WAIT)       # a blocking read: the GIL is released while waiting
    total = 0
    for b in range(64):       # parse the reply: pure Python
        total = total + b
    num_update(u)


def calc(N, Niter=100, func=py_update, icl=[1]):
    sums = []
    for ic in icl:
        u = zeros([N, N])
        u[0] = ic
        for i in range(Niter):
            func(u)
        sums.append(u.sum())
    return sums


def share(k, workers):
    if KERNEL == "numpy":
        update = num_update
    elif KERNEL == "io":
        update = io_update
    else:
        update = py_update
    return (N, NITER, update, array_split(linspace(1, 2, NP), workers)[k])


def report(results):
    checksum = 0.0
    for sums in results:
        for s in sums:
            checksum += s
    return {"checksum": checksum}


if __name__ == "__main__":
    from gilscope_driver import main

    main(globals())
