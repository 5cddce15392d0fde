/** The broker model's root: its virtual hosts and the persistence they share. */
import { VirtualHost, type QueueObserver, type VhostPersistence } from './vhost.js';

export class Broker {
  readonly vhosts = new Map<string, VirtualHost>();
  private persistenceLayer: VhostPersistence | null = null;
  private queueObserver: QueueObserver | null = null;

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

  /** Observer of queue state in every vhost (the embedding API's waitFor); null when nobody waits. */
  get observer(): QueueObserver | null {
    return this.queueObserver;
  }

  set observer(o: QueueObserver | null) {
    this.queueObserver = o;
    for (const vhost of this.vhosts.values()) vhost.observer = o;
  }

  /**
   * Stop the model after the last connection closed: detach persistence, so nothing more is written
   * (durable state stays as stored), then release every queue, which stops its timers.
   */
  shutdown(): void {
    this.persistence = null;
    this.observer = null;
    for (const vhost of this.vhosts.values()) vhost.shutdown();
  }

  addVhost(name: string): VirtualHost {
    let vhost = this.vhosts.get(name);
    if (vhost === undefined) {
      vhost = new VirtualHost(name);
      vhost.persistence = this.persistenceLayer;
      vhost.observer = this.queueObserver;
      this.vhosts.set(name, vhost);
    }
    return vhost;
  }

  vhost(name: string): VirtualHost | undefined {
    return this.vhosts.get(name);
  }
}
