// Preloaded (node --import) into the cache-tests server by run.sh: its server.listen(port)
// binds every interface; this makes a listen() without a host bind LISTEN_HOST (127.0.0.1).
import net from 'node:net';

const host = process.env.LISTEN_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const [port, ...rest] = args;
    if (typeof rest[0] !== 'string') return listen.call(this, Number(port), host, ...rest);
  }
  return listen.apply(this, args);
};
