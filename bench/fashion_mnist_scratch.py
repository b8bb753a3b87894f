#!/usr/bin/python3
"""fashion_mnist_scratch.py -- a quick look outside w2sweep (PyTorch, one thread) at how much
model width matters for Fashion-MNIST binary tasks when labels are plentiful or scarce; the
exploration behind sweeps/fashion_mnist.cfg's choices (bench/FASHION_MNIST.md).

    /usr/bin/python3 bench/fashion_mnist_scratch.py scratch N [TASK,TASK,...]
        MLPs (196 -> w -> w -> 1, ReLU; w = 2 .. 256, and a linear model "lin") trained from
        scratch with Adam on N labelled rows of each task, test accuracy on 1,000 others.
    /usr/bin/python3 bench/fashion_mnist_scratch.py cluster K N
        a k-means-cluster objective: MLPs of width 4 / 32 / 256 pretrained on the 50,000-image
        pool to predict the k-means cluster (K clusters of the clean image) of a shifted,
        mirrored view; then a logistic probe on the frozen features with N labels.

Images as data/fashion_mnist.py prepares them (same pool split seed is NOT reproduced: this
is an independent draw). Measured 2026-11-28: from scratch, at N = 1000 every width >= 4 is
within 1-2 points of the widest; at N = 60 width 64 is 9-11 points above width 4 on the
unions (winter, mixA). The cluster objective's probes rise steeply with width (w4 has 4
features) but the w256 probe is no better than training from scratch on the same N rows.
"""
import gzip, numpy as np, torch, time, sys
torch.set_num_threads(1); torch.manual_seed(0)
def idx(p, d):
    raw = gzip.open(p).read(); dims = np.frombuffer(raw[4:4+4*d], dtype='>u4')
    return np.frombuffer(raw[4+4*d:], dtype=np.uint8).reshape(dims)
S='/usr/share/datasets/fashion-mnist/'
Xtr=idx(S+'train-images-idx3-ubyte.gz',3).astype(np.float32)/255; ytr=idx(S+'train-labels-idx1-ubyte.gz',1)
Xte=idx(S+'t10k-images-idx3-ubyte.gz',3).astype(np.float32)/255; yte=idx(S+'t10k-labels-idx1-ubyte.gz',1)
pool=lambda X: X.reshape(-1,14,2,14,2).mean((2,4)).reshape(-1,196)
rng=np.random.default_rng(0); perm=rng.permutation(60000)
P=pool(Xtr[perm[:50000]]); L=np.concatenate([pool(Xtr[perm[50000:]]),pool(Xte)]); yL=np.concatenate([ytr[perm[50000:]],yte])
mu=P.mean(0); sd=P.std(0); sd=np.maximum(sd,0.1*sd.mean())
Ps=torch.tensor((P-mu)/sd); Ls=torch.tensor((L-mu)/sd)
tasks={'footwear':([5,7,9],None),'upper':([0,2,4,6],None),'shirt_tshirt':([6],[0]),'pullover_coat':([2],[4]),
 'parity':([0,2,4,6,8],None),'mixA':([0,3,5,8],[1,2,4,6,7,9]),'mixB':([1,2,6,7],[0,3,4,5,8,9]),'winter':([2,4,9],[0,3,5]),'sleeves':([2,4,6],[0,3])}
def task(name):
    pos,neg=tasks[name]; neg=neg if neg is not None else [c for c in range(10) if c not in pos]
    ip=np.where(np.isin(yL,pos))[0]; ineg=np.where(np.isin(yL,neg))[0]
    r=np.random.default_rng(1); n=min(len(ip),len(ineg)); ip=r.choice(ip,n,False); ineg=r.choice(ineg,n,False)
    I=np.concatenate([ip,ineg]); y=np.concatenate([np.ones(n),np.zeros(n)]).astype(np.float32); o=r.permutation(len(I))
    return I[o],y[o]
def mlp(w,out):
    return torch.nn.Sequential(torch.nn.Linear(196,w),torch.nn.ReLU(),torch.nn.Linear(w,w),torch.nn.ReLU(),torch.nn.Linear(w,out))
def train(m,X,Y,epochs,lr,loss,bs=64,wd=0.0):
    opt=torch.optim.Adam(m.parameters(),lr=lr,weight_decay=wd); n=len(X)
    for e in range(epochs):
        p=torch.randperm(n)
        for i in range(0,n,bs):
            b=p[i:i+bs]; opt.zero_grad(); l=loss(m(X[b]),Y[b]); l.backward(); opt.step()
    return m
def kmeans(X,K,it=20):
    C=X[torch.randperm(len(X))[:K]].clone()
    for _ in range(it):
        a=torch.cdist(X,C).argmin(1)
        for k in range(K):
            s=X[a==k]
            if len(s): C[k]=s.mean(0)
    return C,a
mode=sys.argv[1]
if mode=='scratch':
  nl=int(sys.argv[2])
  for tn in (sys.argv[3].split(',') if len(sys.argv)>3 else tasks):
    I,y=task(tn); Xa=Ls[I[:nl]]; ya=torch.tensor(y[:nl]); Xt=Ls[I[2000:3000]]; yt=y[2000:3000]
    res=[]
    for w in [0,2,4,16,64,256]:
        m = torch.nn.Linear(196,1) if w==0 else mlp(w,1)
        bce=lambda o,t: torch.nn.functional.binary_cross_entropy_with_logits(o[:,0],t)
        train(m,Xa,ya,60,1e-3,bce,wd=1e-4)
        with torch.no_grad(): acc=((m(Xt)[:,0]>0).numpy()==(yt>0.5)).mean()
        res.append('%s %.1f'%('lin' if w==0 else 'w%d'%w,100*acc))
    print(tn,*res,flush=True)
if mode=='cluster':
  K=int(sys.argv[2]); nl=int(sys.argv[3])
  t0=time.time(); C,a=kmeans(Ps,K); print('kmeans',time.time()-t0,flush=True)
  def aug(X):
    X=X.view(-1,14,14); B=len(X)
    sh=torch.randint(-1,2,(2,)); X=torch.roll(X,(int(sh[0]),int(sh[1])),(1,2))
    if torch.rand(1)<0.5: X=X.flip(2)
    return X.reshape(B,196)
  feats={}
  for w in [4,32,256]:
    m=mlp(w,K); ce=lambda o,t: torch.nn.functional.cross_entropy(o,t)
    opt=torch.optim.Adam(m.parameters(),lr=1e-3)
    for e in range(4):
      p=torch.randperm(50000)
      for i in range(0,50000,128):
        b=p[i:i+128]; opt.zero_grad(); l=ce(m(aug(Ps[b])),a[b]); l.backward(); opt.step()
    with torch.no_grad(): pacc=(m(Ps[:5000]).argmax(1)==a[:5000]).float().mean().item()
    print('w',w,'cluster acc',round(pacc,3),'t',round(time.time()-t0),flush=True)
    body=m[:4]
    for tn in tasks:
      I,y=task(tn); Xa=Ls[I[:nl]]; ya=torch.tensor(y[:nl]); Xt=Ls[I[2000:3000]]; yt=y[2000:3000]
      with torch.no_grad(): Fa=body(Xa); Ft=body(Xt)
      mu_,sd_=Fa.mean(0),Fa.std(0)+1e-3
      best=0
      lp=torch.nn.Linear(w,1)
      bce=lambda o,t: torch.nn.functional.binary_cross_entropy_with_logits(o[:,0],t)
      train(lp,(Fa-mu_)/sd_,ya,100,3e-3,bce,wd=1e-3)
      with torch.no_grad(): acc=((lp((Ft-mu_)/sd_)[:,0]>0).numpy()==(yt>0.5)).mean()
      feats.setdefault(tn,[]).append('w%d %.1f'%(w,100*acc))
  for tn in feats: print(tn,'probe',*feats[tn])
