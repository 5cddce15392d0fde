/** The broker model's root: its virtual hosts and the persistence they share. */
import { VirtualHost, type VhostPersistence } from './vhost.js';

export class Broker {
  readonly vhosts = new Map<string, VirtualHost>();
  private persistenceLayer: VhostPersistence | null = null;

  constructor(defaultVhost = '/') {
    this.addVhost(defaultVhost);
  }

  /** Persistence for every vhost, present and future. */
  get persistence(): VhostPersistence | null {
    return this.persistenceLayer;
  }

  set persistence(p: VhostPersistence | null) {
    this.persistenceLayer = p;
    for (const vhost of this.vhosts.values()) vhost.persistence = p;
  }

  addVhost(name: string): VirtualHost {
    let vhost = this.vhosts.get(name);
    if (vhost === undefined) {
      vhost = new VirtualHost(name);
      vhost.persistence = this.persistenceLayer;
      this.vhosts.set(name, vhost);
    }
    return vhost;
  }

  vhost(name: string): VirtualHost | undefined {
    return this.vhosts.get(name);
  }
}
