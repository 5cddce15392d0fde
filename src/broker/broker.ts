/** The broker model's root: its virtual hosts. */
import { VirtualHost } from './vhost.js';

export class Broker {
  readonly vhosts = new Map<string, VirtualHost>();

  constructor(defaultVhost = '/') {
    this.addVhost(defaultVhost);
  }

  addVhost(name: string): VirtualHost {
    let vhost = this.vhosts.get(name);
    if (vhost === undefined) {
      vhost = new VirtualHost(name);
      this.vhosts.set(name, vhost);
    }
    return vhost;
  }

  vhost(name: string): VirtualHost | undefined {
    return this.vhosts.get(name);
  }
}
